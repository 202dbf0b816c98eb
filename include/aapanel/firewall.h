/*
 * firewall.h — the firewall's data (docs/firewall.md): the rules in order,
 * the block list and the state row in the panel's database, and the
 * helper's firewall.* operations that apply them to nftables (table inet
 * aapanel only), confirm them, and read the kernel's table back.
 */
#ifndef AAPANEL_FIREWALL_H
#define AAPANEL_FIREWALL_H

#include <json-c/json.h>

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/fwrules.h"
#include "aapanel/helper.h"
#include "aapanel/problem.h"

struct ap_fw_env {
	struct ap_db *db;
	struct ap_helper_client *helper;
	const struct ap_config *cfg;
};

struct ap_fw_rule {
	int64_t id, position;
	char action[8];   /* allow | deny */
	char proto[8];    /* tcp | udp | both */
	char ports[16];   /* "8443" | "8000-8100" */
	char from[1600];  /* addresses / CIDR networks, "" = any */
	int64_t rate;     /* new connections a minute, 0 = no limit */
	char comment[AP_FW_COMMENT_MAX + 1];
	int64_t created_at;
};

struct ap_fw_block {
	int64_t id;
	char address[64];
	char comment[AP_FW_COMMENT_MAX + 1];
	int64_t created_at;
};

struct ap_fw_state {
	char policy[8]; /* accept | drop */
	bool icmp_echo;
	int64_t revision, applied_revision, applied_at, pending_serial, pending_deadline, confirmed_at;
	char *applied_text; /* what the kernel showed after the last apply (owned; ap_fw_state_clear) */
};

/* Every rule in order / every block-list entry; *out owned (free()). */
enum ap_err ap_fw_rules(const struct ap_fw_env *env, struct ap_fw_rule **out, size_t *n, struct ap_problem *pb);
enum ap_err ap_fw_blocklist(const struct ap_fw_env *env, struct ap_fw_block **out, size_t *n,
    struct ap_problem *pb);
enum ap_err ap_fw_state_get(const struct ap_fw_env *env, struct ap_fw_state *st, struct ap_problem *pb);
void ap_fw_state_clear(struct ap_fw_state *st);

/*
 * Add a rule (checked: action, proto, ports, from, rate, comment; a 400
 * naming the field otherwise). in->position 0 = last, else it goes there
 * and the ones from there move down. *out: the rule as stored.
 */
enum ap_err ap_fw_rule_add(const struct ap_fw_env *env, const struct ap_fw_rule *in, struct ap_fw_rule *out,
    struct ap_problem *pb);
enum ap_err ap_fw_rule_remove(const struct ap_fw_env *env, int64_t id, struct ap_fw_rule *before,
    struct ap_problem *pb);
enum ap_err ap_fw_block_add(const struct ap_fw_env *env, const char *address, const char *comment,
    struct ap_fw_block *out, struct ap_problem *pb);
enum ap_err ap_fw_block_remove(const struct ap_fw_env *env, int64_t id, struct ap_fw_block *before,
    struct ap_problem *pb);
/* The default policy (accept|drop) and ICMP echo. */
enum ap_err ap_fw_settings_set(const struct ap_fw_env *env, const char *policy, bool icmp_echo,
    struct ap_problem *pb);

/* The ruleset document (fwrules.h) of what is stored (owned). */
struct json_object *ap_fw_document(const struct ap_fw_env *env, struct ap_problem *pb);

/*
 * Apply what is stored: the helper checks it again, refuses a ruleset that
 * would lock operator (an address, may be "" or NULL) out of panel_port or
 * SSH unless override (409, field override, the reason), applies it in one
 * transaction and rolls it back after firewall.confirm_seconds unless
 * ap_fw_confirm comes first. *result (owned, may be NULL): serial, deadline,
 * confirm_seconds, text.
 */
enum ap_err ap_fw_apply(const struct ap_fw_env *env, const char *operator, int panel_port, bool override,
    struct json_object **result, struct ap_problem *pb);
/* Confirm the change waiting (409 when it already reverted, 404 when none waits). */
enum ap_err ap_fw_confirm(const struct ap_fw_env *env, int64_t *serial, struct ap_problem *pb);
/* The kernel's table as the helper reads it back (owned): exists, text, ids, tables, netns, pending_*. */
enum ap_err ap_fw_kernel(const struct ap_fw_env *env, struct json_object **out, struct ap_problem *pb);

/* As the API and the audit log show them (owned). */
struct json_object *ap_fw_rule_json(const struct ap_fw_rule *r);
struct json_object *ap_fw_block_json(const struct ap_fw_block *b);

#endif
