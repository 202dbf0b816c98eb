/*
 * firewall.c — the Firewall screen and /api/v1/firewall (firewall.read to
 * look, firewall.write — admins — to change; docs/firewall.md): the rules in
 * order, the block list, the default policy and ICMP echo as stored, beside
 * the table inet aapanel as the kernel has it (read back by the helper) and
 * whether the two differ; apply (commit-confirmed: it reverts unless
 * confirmed in time, and a ruleset that would lock the requesting address
 * out of the panel's port or SSH is refused unless overridden) and confirm.
 * Every change is audited with before and after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/firewall.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"

static const char *const actions[] = { "allow", "deny", NULL };
static const char *const protos[] = { "tcp", "udp", "both", NULL };
static const char *const policies[] = { "accept", "drop", NULL };

enum { FR_ACTION, FR_PORTS, FR_PROTO, FR_FROM, FR_RATE, FR_COMMENT, FR_POSITION, FR__MAX };
const struct ap_field ap_fw_rule_fields[FR__MAX + 1] = {
	[FR_ACTION] = { .name = "action", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = actions,
	    .desc = "allow or deny (deny drops the packets)" },
	[FR_PORTS] = { .name = "ports", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 11, .desc = "a port (8443) or a range (8000-8100)" },
	[FR_PROTO] = { .name = "proto", .type = AP_FIELD_ENUM, .choices = protos, .desc = "tcp (default), udp or both" },
	[FR_FROM] = { .name = "from", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 1500,
	    .desc = "IPv4/IPv6 addresses or CIDR networks, separated by spaces or commas; empty: from anywhere" },
	[FR_RATE] = { .name = "rate", .type = AP_FIELD_INT, .min = 0, .max = AP_FW_MAX_RATE,
	    .desc = "allow rules: new connections a minute to these ports over which they are dropped; 0: no limit" },
	[FR_COMMENT] = { .name = "comment", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 64,
	    .desc = "a note, kept in the kernel's rule too" },
	[FR_POSITION] = { .name = "position", .type = AP_FIELD_INT, .min = 0, .max = 100000,
	    .desc = "where it goes, 1 = first (the first matching rule decides); 0 or none: last" },
	[FR__MAX] = AP_FIELD_END,
};

enum { FB_ADDRESS, FB_COMMENT, FB__MAX };
const struct ap_field ap_fw_block_fields[FB__MAX + 1] = {
	[FB_ADDRESS] = { .name = "address", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 63, .desc = "an IPv4 or IPv6 address or CIDR network to drop everything from" },
	[FB_COMMENT] = { .name = "comment", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 64 },
	[FB__MAX] = AP_FIELD_END,
};

enum { FS_POLICY, FS_ICMP, FS__MAX };
const struct ap_field ap_fw_settings_fields[FS__MAX + 1] = {
	[FS_POLICY] = { .name = "policy", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = policies,
	    .desc = "what happens to incoming traffic no rule matches: accept or drop" },
	[FS_ICMP] = { .name = "icmp_echo", .type = AP_FIELD_BOOL, .desc = "answer ping (ICMP and ICMPv6 echo)" },
	[FS__MAX] = AP_FIELD_END,
};

enum { FA_OVERRIDE, FA__MAX };
const struct ap_field ap_fw_apply_fields[FA__MAX + 1] = {
	[FA_OVERRIDE] = { .name = "override", .type = AP_FIELD_BOOL,
	    .desc = "apply even though it would lock your address out of the panel's port or SSH" },
	[FA__MAX] = AP_FIELD_END,
};

/* ---- resources ------------------------------------------------------ */

static const struct ap_prop rule_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "position", .type = AP_J_INT, .desc = "1 = first; the first matching rule decides" },
	{ .name = "action", .type = AP_J_STRING, .choices = actions },
	{ .name = "proto", .type = AP_J_STRING, .choices = protos },
	{ .name = "ports", .type = AP_J_STRING, .desc = "a port or a range (8000-8100)" },
	{ .name = "from", .type = AP_J_STRING, .desc = "addresses or networks; empty: anywhere" },
	{ .name = "rate", .type = AP_J_INT, .desc = "new connections a minute, 0: no limit" },
	{ .name = "comment", .type = AP_J_STRING },
	{ .name = "in_kernel", .type = AP_J_BOOL, .flags = AP_J_OPT,
	    .desc = "the kernel's table has it (absent: the helper could not be asked)" },
	AP_PROP_END,
};
const struct ap_schema ap_fw_rule_schema = { .name = "FirewallRule", .desc = "a firewall rule", .props = rule_props };

static const struct ap_prop block_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "address", .type = AP_J_STRING, .desc = "an address or a CIDR network" },
	{ .name = "comment", .type = AP_J_STRING },
	AP_PROP_END,
};
const struct ap_schema ap_fw_block_schema = { .name = "FirewallBlock", .desc = "a block-list entry",
	.props = block_props };

static const struct ap_prop kernel_props[] = {
	{ .name = "available", .type = AP_J_BOOL, .desc = "the helper answered" },
	{ .name = "exists", .type = AP_J_BOOL, .desc = "table inet aapanel exists" },
	{ .name = "text", .type = AP_J_STRING, .desc = "the table as nft lists it" },
	{ .name = "rule_ids", .type = AP_J_ARRAY, .items = AP_J_INT, .desc = "the panel's rules found in it, in order" },
	{ .name = "other_tables", .type = AP_J_ARRAY, .items = AP_J_STRING,
	    .desc = "the other tables (family name): never changed by the panel" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL },
	AP_PROP_END,
};
static const struct ap_schema kernel_schema = { .name = "FirewallKernel",
	.desc = "what the kernel has, read back", .props = kernel_props };

static const struct ap_prop pending_props[] = {
	{ .name = "serial", .type = AP_J_INT },
	{ .name = "deadline", .type = AP_J_TIME, .desc = "the old ruleset comes back then unless confirmed" },
	AP_PROP_END,
};
static const struct ap_schema pending_schema = { .name = "FirewallPending",
	.desc = "an applied change waiting for its confirmation", .props = pending_props };

static const struct ap_prop fw_props[] = {
	{ .name = "target", .type = AP_J_STRING, .choices = (const char *const[]){ "namespace", "host", NULL },
	    .desc = "where the rules go: a network namespace (development, tests) or this server's own ruleset" },
	{ .name = "netns", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the namespace's file (firewall.netns)" },
	{ .name = "policy", .type = AP_J_STRING, .choices = policies },
	{ .name = "icmp_echo", .type = AP_J_BOOL },
	{ .name = "rules", .type = AP_J_ARRAY, .of = &ap_fw_rule_schema, .desc = "in order" },
	{ .name = "block", .type = AP_J_ARRAY, .of = &ap_fw_block_schema },
	{ .name = "applied", .type = AP_J_BOOL, .desc = "what is stored is what was last applied" },
	{ .name = "applied_at", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "differs", .type = AP_J_BOOL,
	    .desc = "the kernel's table is not what the panel last applied (changed outside, or reverted)" },
	{ .name = "pending", .type = AP_J_OBJECT, .of = &pending_schema, .flags = AP_J_NULL },
	{ .name = "kernel", .type = AP_J_OBJECT, .of = &kernel_schema },
	AP_PROP_END,
};
const struct ap_schema ap_fw_schema = { .name = "Firewall",
	.desc = "the firewall as stored and as the kernel has it", .props = fw_props };

static const struct ap_prop applied_props[] = {
	{ .name = "serial", .type = AP_J_INT, .desc = "what confirm confirms" },
	{ .name = "deadline", .type = AP_J_TIME, .desc = "the old ruleset comes back then unless confirmed" },
	{ .name = "confirm_seconds", .type = AP_J_INT },
	{ .name = "text", .type = AP_J_STRING, .desc = "the table as the kernel has it now" },
	AP_PROP_END,
};
const struct ap_schema ap_fw_applied_schema = { .name = "FirewallApplied",
	.desc = "an applied ruleset, to confirm before its deadline", .props = applied_props };

static const struct ap_prop confirmed_props[] = {
	{ .name = "serial", .type = AP_J_INT },
	{ .name = "confirmed", .type = AP_J_BOOL },
	AP_PROP_END,
};
const struct ap_schema ap_fw_confirmed_schema = { .name = "FirewallConfirmed",
	.desc = "the change stays", .props = confirmed_props };

static struct ap_helper_client *H_client;

static struct ap_fw_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_fw_env e = { .db = ctx->db, .cfg = c };

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
	return e;
}

static bool
can_write(struct ap_ctx *ctx)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, "firewall.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "firewall.write"));
}

static int
fail_pb(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	if (pb->code == AP_PB_INTERNAL)
		return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "an internal error occurred");
	return ap_ctx_problem(ctx, pb);
}

static bool
id_in(struct json_object *ids, int64_t id)
{
	for (size_t i = 0; ids && i < json_object_array_length(ids); i++)
		if (json_object_get_int64(json_object_array_get_idx(ids, i)) == id)
			return true;
	return false;
}

/*
 * The page's rows (rows.h): ap_fw_rule_json's and ap_fw_block_json's members,
 * the list's position and in_kernel (only when the helper answered: two
 * tables), and what only the page shows.
 */
struct rule_view {
	int64_t id, position, rate;
	const char *action, *proto, *ports, *from, *comment;
	bool in_kernel, is_allow, not_in_kernel;
};
#define RULE_COLS \
	AP_COL(struct rule_view, id, AP_COL_INT), AP_COL(struct rule_view, position, AP_COL_INT), \
	AP_COL(struct rule_view, action, AP_COL_STR), AP_COL(struct rule_view, proto, AP_COL_STR), \
	AP_COL(struct rule_view, ports, AP_COL_STR), AP_COL(struct rule_view, from, AP_COL_STR), \
	AP_COL(struct rule_view, rate, AP_COL_INT), AP_COL(struct rule_view, comment, AP_COL_STR), \
	AP_COL(struct rule_view, is_allow, AP_COL_BOOL), AP_COL(struct rule_view, not_in_kernel, AP_COL_BOOL)
static const struct ap_col rule_cols[] = { RULE_COLS, AP_COL_END };
static const struct ap_col rule_cols_kernel[] = { RULE_COLS, AP_COL(struct rule_view, in_kernel, AP_COL_BOOL),
	AP_COL_END };

struct block_view {
	int64_t id;
	const char *address, *comment;
};
static const struct ap_col block_cols[] = {
	AP_COL(struct block_view, id, AP_COL_INT),
	AP_COL(struct block_view, address, AP_COL_STR),
	AP_COL(struct block_view, comment, AP_COL_STR),
	AP_COL_END,
};

/* The rules and the block list: json-c objects (the CLI reads them), or row sources (the page). */
static void
fw_lists(const struct ap_fw_rule *r, size_t nr, const struct ap_fw_block *b, size_t nb, bool avail,
    struct json_object *ids, bool as_rows, struct json_object **rules, struct json_object **block)
{
	if (!as_rows) {
		*rules = json_object_new_array();
		for (size_t i = 0; i < nr; i++) {
			struct json_object *j = ap_fw_rule_json(&r[i]);

			json_object_object_add(j, "position", json_object_new_int64((int64_t)i + 1));
			if (avail)
				json_object_object_add(j, "in_kernel", json_object_new_boolean(id_in(ids, r[i].id)));
			json_object_array_add(*rules, j);
		}
		*block = json_object_new_array();
		for (size_t i = 0; i < nb; i++)
			json_object_array_add(*block, ap_fw_block_json(&b[i]));
		return;
	}
	*rules = ap_rows_new(avail ? rule_cols_kernel : rule_cols, sizeof(struct rule_view));
	for (size_t i = 0; i < nr; i++) {
		struct rule_view *v = ap_rows_add(*rules);

		v->id = r[i].id;
		v->position = (int64_t)i + 1;
		v->action = ap_rows_strdup(*rules, r[i].action);
		v->proto = ap_rows_strdup(*rules, r[i].proto);
		v->ports = ap_rows_strdup(*rules, r[i].ports);
		v->from = ap_rows_strdup(*rules, r[i].from);
		v->rate = r[i].rate;
		v->comment = ap_rows_strdup(*rules, r[i].comment);
		v->in_kernel = avail && id_in(ids, r[i].id);
		v->is_allow = strcmp(r[i].action, "allow") == 0;
		v->not_in_kernel = avail && !v->in_kernel;
	}
	*block = ap_rows_new(block_cols, sizeof(struct block_view));
	for (size_t i = 0; i < nb; i++) {
		struct block_view *v = ap_rows_add(*block);

		v->id = b[i].id;
		v->address = ap_rows_strdup(*block, b[i].address);
		v->comment = ap_rows_strdup(*block, b[i].comment);
	}
}

static struct json_object *
fw_resource(const struct ap_fw_env *env, struct ap_problem *pb, bool as_rows)
{
	struct json_object *o = NULL, *rules, *block, *k, *show = NULL, *ids = NULL, *v, *pend = NULL;
	struct ap_fw_rule *r = NULL;
	struct ap_fw_block *b = NULL;
	struct ap_fw_state s = { 0 };
	struct ap_problem kpb;
	size_t nr = 0, nb = 0;
	const char *ktext = "";
	bool avail;

	avail = ap_fw_kernel(env, &show, &kpb) == AP_OK; /* first: it settles a reverted change */
	if (ap_fw_state_get(env, &s, pb) != AP_OK || ap_fw_rules(env, &r, &nr, pb) != AP_OK ||
	    ap_fw_blocklist(env, &b, &nb, pb) != AP_OK)
		goto out;
	o = json_object_new_object();
	if (avail)
		json_object_object_get_ex(show, "ids", &ids);
	fw_lists(r, nr, b, nb, avail, ids, as_rows, &rules, &block);
	ap_model_str(o, "target", env->cfg->firewall_netns[0] ? "namespace" : "host");
	ap_model_opt(o, "netns", env->cfg->firewall_netns[0] ? env->cfg->firewall_netns : NULL);
	ap_model_str(o, "policy", s.policy);
	ap_model_add(o, "icmp_echo", json_object_new_boolean(s.icmp_echo));
	ap_model_add(o, "rules", rules);
	ap_model_add(o, "block", block);
	ap_model_add(o, "applied", json_object_new_boolean(s.applied_revision == s.revision));
	ap_model_add(o, "applied_at", ap_model_time(s.applied_at));
	k = json_object_new_object();
	ap_model_add(k, "available", json_object_new_boolean(avail));
	ap_model_add(k, "exists", json_object_new_boolean(avail && json_object_object_get_ex(show, "exists", &v) &&
	    json_object_get_boolean(v)));
	if (avail && json_object_object_get_ex(show, "text", &v))
		ktext = json_object_get_string(v);
	ap_model_str(k, "text", ktext);
	ap_model_add(k, "rule_ids", ids ? json_object_get(ids) : json_object_new_array());
	ap_model_add(k, "other_tables", avail && json_object_object_get_ex(show, "tables", &v) ? json_object_get(v)
	    : json_object_new_array());
	ap_model_opt(k, "error", avail ? NULL : kpb.reason);
	/* Differs: what the kernel has is not what the panel put there last (nothing applied yet
	 * and no table is no difference). */
	ap_model_add(o, "differs", json_object_new_boolean(avail &&
	    strcmp(ktext, s.applied_text ? s.applied_text : "") != 0));
	if (avail && s.pending_serial > 0 && json_object_object_get_ex(show, "pending_serial", &v) &&
	    json_object_get_int64(v) == s.pending_serial) {
		pend = json_object_new_object();
		ap_model_add(pend, "serial", json_object_new_int64(s.pending_serial));
		ap_model_add(pend, "deadline", ap_model_time(s.pending_deadline));
	}
	ap_model_add(o, "pending", pend);
	ap_model_add(o, "kernel", k);
out:
	json_object_put(show);
	ap_fw_state_clear(&s);
	free(r);
	free(b);
	return o;
}

struct json_object *
ap_fw_resource(const struct ap_fw_env *env, struct ap_problem *pb)
{
	return fw_resource(env, pb, false);
}

/* ---- GET /firewall -------------------------------------------------- */

int
ap_page_firewall(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	struct json_object *o, *v;
	struct ap_problem pb;

	ctx->title = ap_ctx_tr(ctx, "Firewall");
	if ((o = fw_resource(&env, &pb, true)) == NULL)
		return fail_pb(ctx, &pb);
	json_object_object_foreach(o, key, val)
		ap_model_add(ctx->model, key, json_object_get(val));
	json_object_put(o);
	if (ctx->req->wants_json)
		return 200;
	ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
	ap_model_add(ctx->model, "is_namespace",
	    json_object_new_boolean(ctx->app->cfg->firewall_netns[0] != '\0'));
	ap_model_add(ctx->model, "policy_drop", json_object_new_boolean(
	    json_object_object_get_ex(ctx->model, "policy", &v) && strcmp(json_object_get_string(v), "drop") == 0));
	ap_model_add(ctx->model, "confirm_seconds", json_object_new_int(ctx->app->cfg->firewall_confirm_seconds));
	ap_model_opt(ctx->model, "your_address", ctx->client_addr);
	/* The rows carry is_allow and not_in_kernel (rows.h: fw_lists). */
	ap_model_add(ctx->model, "has_rules", json_object_new_boolean(ap_rows_count(json_object_object_get(ctx->model, "rules")) > 0));
	ap_model_add(ctx->model, "has_block", json_object_new_boolean(ap_rows_count(json_object_object_get(ctx->model, "block")) > 0));
	if (ctx->form_again) {
		static const char *const kept[] = { "ports", "from", "rate", "comment", "position", "address" };

		for (size_t i = 0; i < AP_NELEM(kept); i++) {
			const char *k = ap_ctx_kept(ctx, kept[i]);

			if (k != NULL)
				ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "kept_%s", kept[i]), k);
		}
		if (ctx->route != NULL && strcmp(ctx->route->pattern, "/firewall/apply") == 0)
			ap_model_add(ctx->model, "form_apply", json_object_new_boolean(true));
	}
	return 200;
}

/* ---- changes -------------------------------------------------------- */

static void
audit(struct ap_ctx *ctx, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after, const struct ap_problem *pb)
{
	if (after == NULL && pb != NULL) {
		after = json_object_new_object();
		ap_model_str(after, "error", ap_pb_name(pb->code));
		ap_model_str(after, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, target, outcome, before ? ap_ctx_json_text(ctx, before) : NULL,
	    after ? ap_ctx_json_text(ctx, after) : NULL);
}

int
ap_page_firewall_rule_add(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_fw_rule in = { 0 }, out;
	struct ap_problem pb;

	snprintf(in.action, sizeof(in.action), "%s", actions[f[FR_ACTION].i]);
	snprintf(in.proto, sizeof(in.proto), "%s", f[FR_PROTO].present ? protos[f[FR_PROTO].i] : "tcp");
	snprintf(in.ports, sizeof(in.ports), "%s", f[FR_PORTS].s);
	snprintf(in.from, sizeof(in.from), "%s", f[FR_FROM].present ? f[FR_FROM].s : "");
	snprintf(in.comment, sizeof(in.comment), "%s", f[FR_COMMENT].present ? f[FR_COMMENT].s : "");
	in.rate = f[FR_RATE].present ? f[FR_RATE].i : 0;
	in.position = f[FR_POSITION].present ? f[FR_POSITION].i : 0;
	if (ap_fw_rule_add(&env, &in, &out, &pb) != AP_OK) {
		audit(ctx, "firewall.rule.add", in.ports, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "firewall.rule.add", out.ports, "ok", NULL, ap_fw_rule_json(&out), NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "Rule %lld was added. Apply the rules to put it in the kernel.", (long long)out.id);
		return ap_ctx_back(ctx, "/firewall");
	}
	return ap_ctx_answer(ctx, 201, ap_fw_rule_json(&out));
}

int
ap_page_firewall_rule_remove(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	struct ap_fw_rule before;
	struct ap_problem pb;
	char target[32];

	snprintf(target, sizeof(target), "rule %lld", (long long)ctx->fields[AP_ID].i);
	if (ap_ctx_unconfirmed(ctx, "Remove firewall rule %lld? It leaves the kernel at the next apply.",
		(long long)ctx->fields[AP_ID].i))
		return 200;
	if (ap_fw_rule_remove(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	audit(ctx, "firewall.rule.remove", target, "ok", ap_fw_rule_json(&before), json_object_new_object(), NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "Rule %lld was removed. Apply the rules to take it out of the kernel.",
	    (long long)before.id);
	return ap_ctx_back(ctx, "/firewall");
}

int
ap_page_firewall_block_add(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_fw_block out;
	struct ap_problem pb;

	if (ap_fw_block_add(&env, f[FB_ADDRESS].s, f[FB_COMMENT].present ? f[FB_COMMENT].s : "", &out, &pb) != AP_OK) {
		audit(ctx, "firewall.block.add", f[FB_ADDRESS].s, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "firewall.block.add", out.address, "ok", NULL, ap_fw_block_json(&out), NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "%s is on the block list. Apply the rules to put it in the kernel.", out.address);
		return ap_ctx_back(ctx, "/firewall");
	}
	return ap_ctx_answer(ctx, 201, ap_fw_block_json(&out));
}

int
ap_page_firewall_block_remove(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	struct ap_fw_block before;
	struct ap_problem pb;

	if (ap_ctx_unconfirmed(ctx, "Take entry %lld off the block list?", (long long)ctx->fields[AP_ID].i))
		return 200;
	if (ap_fw_block_remove(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	audit(ctx, "firewall.block.remove", before.address, "ok", ap_fw_block_json(&before), json_object_new_object(),
	    NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "%s is off the block list. Apply the rules to take it out of the kernel.", before.address);
	return ap_ctx_back(ctx, "/firewall");
}

static struct json_object *
settings_json(const struct ap_fw_state *s)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "policy", s->policy);
	ap_model_add(o, "icmp_echo", json_object_new_boolean(s->icmp_echo));
	return o;
}

int
ap_page_firewall_settings(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_fw_state before, after;
	struct json_object *o;
	struct ap_problem pb;

	if (ap_fw_state_get(&env, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_fw_settings_set(&env, policies[f[FS_POLICY].i], f[FS_ICMP].b, &pb) != AP_OK ||
	    ap_fw_state_get(&env, &after, &pb) != AP_OK) {
		ap_fw_state_clear(&before);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "firewall.settings", "firewall", "ok", settings_json(&before), settings_json(&after), NULL);
	ap_fw_state_clear(&before);
	ap_fw_state_clear(&after);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The settings were saved. Apply the rules to put them in the kernel.");
		return ap_ctx_back(ctx, "/firewall");
	}
	if ((o = ap_fw_resource(&env, &pb)) == NULL)
		return fail_pb(ctx, &pb);
	return ap_ctx_answer(ctx, 200, o);
}

/* The port the request came in on: the panel's, which the lock-out guard keeps open. */
static int
panel_port(struct ap_ctx *ctx)
{
	const char *p = ap_req_param(ctx->req, "SERVER_PORT");
	long v = p && *p ? strtol(p, NULL, 10) : 0;

	return v > 0 && v <= 65535 ? (int)v : 0;
}

int
ap_page_firewall_apply(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	struct json_object *res = NULL, *before = NULL, *after;
	bool override = ctx->fields[FA_OVERRIDE].b;
	struct ap_problem pb;
	int64_t deadline;

	before = ap_fw_document(&env, &pb);
	if (ap_fw_apply(&env, ctx->client_addr, panel_port(ctx), override, &res, &pb) != AP_OK) {
		audit(ctx, "firewall.apply", "firewall", "failed", before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	after = json_object_new_object();
	ap_model_add(after, "serial", json_object_get(json_object_object_get(res, "serial")));
	ap_model_add(after, "deadline", json_object_get(json_object_object_get(res, "deadline")));
	ap_model_add(after, "override", json_object_new_boolean(override));
	ap_model_add(after, "from", json_object_new_string(ctx->client_addr ? ctx->client_addr : ""));
	audit(ctx, "firewall.apply", "firewall", "ok", before, after, NULL);
	deadline = json_object_get_int64(json_object_object_get(res, "deadline"));
	if (!ctx->req->wants_json) {
		json_object_put(res);
		ap_ctx_flash(ctx, "ok", "The rules are in the kernel. Confirm them within %lld seconds, or the old ones come back.",
		    (long long)(deadline - (int64_t)time(NULL)));
		return ap_ctx_back(ctx, "/firewall");
	}
	json_object_object_del(res, "deadline");
	json_object_object_add(res, "deadline", ap_model_time(deadline));
	return ap_ctx_answer(ctx, 200, res);
}

int
ap_page_firewall_confirm(struct ap_ctx *ctx)
{
	struct ap_fw_env env = env_of(ctx);
	struct json_object *o;
	struct ap_problem pb;
	int64_t serial = 0;
	char target[40];

	if (ap_fw_confirm(&env, &serial, &pb) != AP_OK) {
		snprintf(target, sizeof(target), "change %lld", (long long)serial);
		audit(ctx, "firewall.confirm", target, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	snprintf(target, sizeof(target), "change %lld", (long long)serial);
	o = json_object_new_object();
	ap_model_add(o, "serial", json_object_new_int64(serial));
	ap_model_add(o, "confirmed", json_object_new_boolean(true));
	audit(ctx, "firewall.confirm", target, "ok", NULL, json_object_get(o), NULL);
	if (!ctx->req->wants_json) {
		json_object_put(o);
		ap_ctx_flash(ctx, "ok", "Confirmed: the rules stay.");
		return ap_ctx_back(ctx, "/firewall");
	}
	return ap_ctx_answer(ctx, 200, o);
}
