/*
 * firewall.c — `aapanel firewall …`: the command-line form of the Firewall
 * screen, through the same data functions (src/data/firewall.c) and the
 * same helper operations (docs/firewall.md).
 *
 *   aapanel firewall list [--json]
 *   aapanel firewall allow|deny PORTS[/tcp|udp|both] [--from CIDRS] [--rate N]
 *                               [--comment TEXT] [--position N] [--json]
 *   aapanel firewall remove ID
 *   aapanel firewall block ADDRESS [--comment TEXT] [--json]
 *   aapanel firewall unblock ID
 *   aapanel firewall policy accept|drop [--icmp-echo on|off]
 *   aapanel firewall apply [--override] [--operator ADDRESS] [--panel-port N] [--json]
 *   aapanel firewall confirm [--json]
 *
 * apply's lock-out guard protects the operator's address: --operator, else
 * the client of $SSH_CONNECTION (the SSH session this runs in), on the SSH
 * port (firewall.ssh_port) and --panel-port. --json on list prints the API's
 * Firewall, on the others what the API answers. Exit 0 ok, 2 invalid input
 * or a refusal (the field and the reason on stderr), 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/firewall.h"
#include "aapanel/pages.h"

static const char fw_usage[] =
    "usage: aapanel firewall list [--json]\n"
    "       aapanel firewall allow|deny PORTS[/tcp|udp|both] [--from CIDRS] [--rate N] [--comment TEXT]\n"
    "                                   [--position N] [--json]\n"
    "       aapanel firewall remove ID\n"
    "       aapanel firewall block ADDRESS [--comment TEXT] [--json]\n"
    "       aapanel firewall unblock ID\n"
    "       aapanel firewall policy accept|drop [--icmp-echo on|off]\n"
    "       aapanel firewall apply [--override] [--operator ADDRESS] [--panel-port N] [--json]\n"
    "       aapanel firewall confirm [--json]\n";

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *
plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static struct json_object *
pb_json(const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	return o;
}

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome, struct json_object *before,
    struct json_object *after)
{
	ap_cli_audit_write(db, action, target, outcome, before ? plain(before) : NULL, after ? plain(after) : NULL);
	json_object_put(before);
	json_object_put(after);
}

static bool
to_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return false;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void
list_text(struct json_object *fw)
{
	struct json_object *rules = json_object_object_get(fw, "rules"), *block = json_object_object_get(fw, "block");
	struct json_object *k = json_object_object_get(fw, "kernel"), *pend = json_object_object_get(fw, "pending"), *v;

	printf("target:  %s%s%s\n", json_object_get_string(json_object_object_get(fw, "target")),
	    json_object_object_get(fw, "netns") ? " " : "",
	    json_object_object_get(fw, "netns") ? json_object_get_string(json_object_object_get(fw, "netns")) : "");
	printf("policy:  %s; ping %s\n", json_object_get_string(json_object_object_get(fw, "policy")),
	    json_object_get_boolean(json_object_object_get(fw, "icmp_echo")) ? "answered" : "not answered");
	printf("%-4s %-5s %-6s %-11s %-5s %-7s %-6s %s\n", "POS", "ID", "ACTION", "PORTS", "PROTO", "RATE", "KERNEL",
	    "FROM / COMMENT");
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		const char *from = json_object_get_string(json_object_object_get(r, "from"));

		printf("%-4lld %-5lld %-6s %-11s %-5s %-7lld %-6s %s%s%s\n",
		    (long long)json_object_get_int64(json_object_object_get(r, "position")),
		    (long long)json_object_get_int64(json_object_object_get(r, "id")),
		    json_object_get_string(json_object_object_get(r, "action")),
		    json_object_get_string(json_object_object_get(r, "ports")),
		    json_object_get_string(json_object_object_get(r, "proto")),
		    (long long)json_object_get_int64(json_object_object_get(r, "rate")),
		    !json_object_object_get_ex(r, "in_kernel", &v) ? "?" : json_object_get_boolean(v) ? "yes" : "no",
		    from[0] ? from : "anywhere", " ", json_object_get_string(json_object_object_get(r, "comment")));
	}
	for (size_t i = 0; i < json_object_array_length(block); i++) {
		struct json_object *b = json_object_array_get_idx(block, i);

		printf("block    %-5lld %s %s\n", (long long)json_object_get_int64(json_object_object_get(b, "id")),
		    json_object_get_string(json_object_object_get(b, "address")),
		    json_object_get_string(json_object_object_get(b, "comment")));
	}
	if (!json_object_get_boolean(json_object_object_get(fw, "applied")))
		printf("note:    stored changes are not applied yet (aapanel firewall apply)\n");
	if (json_object_get_boolean(json_object_object_get(fw, "differs")))
		printf("note:    the kernel's table differs from what the panel applied last\n");
	if (pend != NULL)
		printf("pending: change %lld reverts at %s unless confirmed (aapanel firewall confirm)\n",
		    (long long)json_object_get_int64(json_object_object_get(pend, "serial")),
		    json_object_get_string(json_object_object_get(pend, "deadline")));
	if (!json_object_get_boolean(json_object_object_get(k, "available")))
		printf("kernel:  cannot be read: %s\n", json_object_get_string(json_object_object_get(k, "error")));
	else if (!json_object_get_boolean(json_object_object_get(k, "exists")))
		printf("kernel:  no table inet aapanel\n");
	else
		printf("kernel:\n%s", json_object_get_string(json_object_object_get(k, "text")));
}

int
ap_cli_firewall(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' },
		{ "comment", required_argument, NULL, 'c' },
		{ "position", required_argument, NULL, 'p' },
		{ "override", no_argument, NULL, 'o' },
		{ "operator", required_argument, NULL, 'O' },
		{ "panel-port", required_argument, NULL, 'P' },
		{ "icmp-echo", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_fw_env env = { .cfg = cfg };
	const char *sub, *arg = NULL, *from = "", *comment = "", *rate_s = NULL, *pos_s = NULL, *op = NULL;
	const char *icmp = NULL;
	bool json = false, override = false;
	long long panel_port = 0, id = 0;
	struct ap_problem pb;
	char cmd[40];
	int status = 1, ch;

	if (argc < 2) {
		fputs(fw_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "firewall %s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 'f': from = optarg; break;
		case 'r': rate_s = optarg; break;
		case 'c': comment = optarg; break;
		case 'p': pos_s = optarg; break;
		case 'o': override = true; break;
		case 'O': op = optarg; break;
		case 'i': icmp = optarg; break;
		case 'P':
			if (!to_int(optarg, 1, 65535, &panel_port)) {
				fprintf(stderr, "aapanel %s: panel-port: must be a port 1..65535\n", cmd);
				return 2;
			}
			break;
		default: fputs(fw_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		arg = argv[optind + 1];
	{
		bool needs = strcmp(sub, "allow") == 0 || strcmp(sub, "deny") == 0 || strcmp(sub, "remove") == 0 ||
		    strcmp(sub, "block") == 0 || strcmp(sub, "unblock") == 0 || strcmp(sub, "policy") == 0;
		bool none = strcmp(sub, "list") == 0 || strcmp(sub, "apply") == 0 || strcmp(sub, "confirm") == 0;

		if ((!needs && !none) || (needs && (arg == NULL || optind + 2 != argc)) || (none && arg != NULL)) {
			fputs(fw_usage, stderr);
			return 2;
		}
	}
	if ((strcmp(sub, "remove") == 0 || strcmp(sub, "unblock") == 0) && !to_int(arg, 1, INT64_MAX, &id)) {
		fprintf(stderr, "aapanel %s: id: must be a number 1 or more\n", cmd);
		return 2;
	}
	if (op == NULL) {
		const char *ssh = getenv("SSH_CONNECTION");
		static char ssh_addr[64];

		if (ssh != NULL && sscanf(ssh, "%63s", ssh_addr) == 1)
			op = ssh_addr;
	}
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);

	if (strcmp(sub, "list") == 0) {
		struct json_object *fw = ap_fw_resource(&env, &pb);

		if (fw == NULL) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json)
			print_json(fw);
		else {
			list_text(fw);
			json_object_put(fw);
		}
		status = 0;
	} else if (strcmp(sub, "allow") == 0 || strcmp(sub, "deny") == 0) {
		struct ap_fw_rule in = { 0 }, out;
		const char *proto = NULL;
		char why[200];
		long long v = 0;
		int lo, hi;

		snprintf(in.action, sizeof(in.action), "%s", sub);
		if (!ap_fw_ports_parse(arg, &lo, &hi, &proto, why, sizeof(why))) {
			fprintf(stderr, "aapanel %s: ports: %s\n", cmd, why);
			status = 2;
			goto out;
		}
		snprintf(in.ports, sizeof(in.ports), "%.*s", (int)strcspn(arg, "/"), arg);
		snprintf(in.proto, sizeof(in.proto), "%s", proto ? proto : "tcp");
		snprintf(in.from, sizeof(in.from), "%s", from);
		if (strlen(comment) >= sizeof(in.comment) || strlen(from) >= sizeof(in.from)) {
			fprintf(stderr, "aapanel %s: %s: is too long\n", cmd, strlen(from) >= sizeof(in.from) ? "from" : "comment");
			status = 2;
			goto out;
		}
		snprintf(in.comment, sizeof(in.comment), "%s", comment);
		if (rate_s != NULL && !to_int(rate_s, 0, AP_FW_MAX_RATE, &v)) {
			fprintf(stderr, "aapanel %s: rate: must be 0 (no limit) to 100000 new connections a minute\n", cmd);
			status = 2;
			goto out;
		}
		in.rate = v;
		v = 0;
		if (pos_s != NULL && !to_int(pos_s, 1, 100000, &v)) {
			fprintf(stderr, "aapanel %s: position: must be 1 or more\n", cmd);
			status = 2;
			goto out;
		}
		in.position = v;
		ap_cli_change(env.db);
		if (ap_fw_rule_add(&env, &in, &out, &pb) != AP_OK) {
			audit(env.db, "firewall.rule.add", arg, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "firewall.rule.add", out.ports, "ok", NULL, ap_fw_rule_json(&out));
		if (json)
			print_json(ap_fw_rule_json(&out));
		else
			printf("rule %lld added: %s %s/%s from %s; apply to put it in the kernel\n", (long long)out.id,
			    out.action, out.ports, out.proto, out.from[0] ? out.from : "anywhere");
		status = 0;
	} else if (strcmp(sub, "remove") == 0) {
		struct ap_fw_rule before;
		char target[32];

		snprintf(target, sizeof(target), "rule %lld", id);
		ap_cli_change(env.db);
		if (ap_fw_rule_remove(&env, id, &before, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "firewall.rule.remove", target, "ok", ap_fw_rule_json(&before), json_object_new_object());
		printf("rule %lld removed; apply to take it out of the kernel\n", id);
		status = 0;
	} else if (strcmp(sub, "block") == 0) {
		struct ap_fw_block out;

		ap_cli_change(env.db);
		if (ap_fw_block_add(&env, arg, comment, &out, &pb) != AP_OK) {
			audit(env.db, "firewall.block.add", arg, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "firewall.block.add", out.address, "ok", NULL, ap_fw_block_json(&out));
		if (json)
			print_json(ap_fw_block_json(&out));
		else
			printf("%s blocked (entry %lld); apply to put it in the kernel\n", out.address, (long long)out.id);
		status = 0;
	} else if (strcmp(sub, "unblock") == 0) {
		struct ap_fw_block before;

		ap_cli_change(env.db);
		if (ap_fw_block_remove(&env, id, &before, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "firewall.block.remove", before.address, "ok", ap_fw_block_json(&before),
		    json_object_new_object());
		printf("%s unblocked; apply to take it out of the kernel\n", before.address);
		status = 0;
	} else if (strcmp(sub, "policy") == 0) {
		struct ap_fw_state before;
		bool echo;
		struct json_object *b, *a;

		if (ap_fw_state_get(&env, &before, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		echo = before.icmp_echo;
		if (icmp != NULL && strcmp(icmp, "on") != 0 && strcmp(icmp, "off") != 0) {
			fprintf(stderr, "aapanel %s: icmp-echo: must be on or off\n", cmd);
			ap_fw_state_clear(&before);
			status = 2;
			goto out;
		}
		if (icmp != NULL)
			echo = strcmp(icmp, "on") == 0;
		b = json_object_new_object();
		json_object_object_add(b, "policy", json_object_new_string(before.policy));
		json_object_object_add(b, "icmp_echo", json_object_new_boolean(before.icmp_echo));
		ap_fw_state_clear(&before);
		ap_cli_change(env.db);
		if (ap_fw_settings_set(&env, arg, echo, &pb) != AP_OK) {
			json_object_put(b);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		a = json_object_new_object();
		json_object_object_add(a, "policy", json_object_new_string(arg));
		json_object_object_add(a, "icmp_echo", json_object_new_boolean(echo));
		audit(env.db, "firewall.settings", "firewall", "ok", b, a);
		printf("policy %s, ping %s; apply to put it in the kernel\n", arg, echo ? "answered" : "not answered");
		status = 0;
	} else if (strcmp(sub, "apply") == 0) {
		struct json_object *res = NULL, *before = ap_fw_document(&env, &pb), *after;

		ap_cli_change(env.db);
		if (ap_fw_apply(&env, op, (int)panel_port, override, &res, &pb) != AP_OK) {
			audit(env.db, "firewall.apply", "firewall", "failed", before, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		after = json_object_new_object();
		json_object_object_add(after, "serial", json_object_get(json_object_object_get(res, "serial")));
		json_object_object_add(after, "deadline", json_object_get(json_object_object_get(res, "deadline")));
		json_object_object_add(after, "override", json_object_new_boolean(override));
		json_object_object_add(after, "from", json_object_new_string(op ? op : ""));
		audit(env.db, "firewall.apply", "firewall", "ok", before, after);
		if (json)
			print_json(res);
		else {
			printf("applied (change %lld); confirm within %d s (aapanel firewall confirm) or the old rules "
			       "come back\n",
			    (long long)json_object_get_int64(json_object_object_get(res, "serial")),
			    json_object_get_int(json_object_object_get(res, "confirm_seconds")));
			json_object_put(res);
		}
		status = 0;
	} else { /* confirm */
		int64_t serial = 0;
		char target[40];
		struct json_object *o;

		ap_cli_change(env.db);
		if (ap_fw_confirm(&env, &serial, &pb) != AP_OK) {
			snprintf(target, sizeof(target), "change %lld", (long long)serial);
			audit(env.db, "firewall.confirm", target, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		snprintf(target, sizeof(target), "change %lld", (long long)serial);
		o = json_object_new_object();
		json_object_object_add(o, "serial", json_object_new_int64(serial));
		json_object_object_add(o, "confirmed", json_object_new_boolean(true));
		audit(env.db, "firewall.confirm", target, "ok", NULL, json_object_get(o));
		if (json)
			print_json(o);
		else {
			printf("change %lld confirmed: the rules stay\n", (long long)serial);
			json_object_put(o);
		}
		status = 0;
	}
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
