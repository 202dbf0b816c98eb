/*
 * fwrules.c — the firewall's ruleset document: checks, the libnftables JSON
 * batch for table inet aapanel, and the lock-out guard (fwrules.h). Pure
 * functions: the worker checks with them before it asks, the helper checks
 * again and builds the batch it hands to libnftables.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/fwrules.h"
#include "aapanel/netaddr.h"

/* A reason that is already text (not a msgid of its own: hidden from xgettext). */
#define REASON_TEXT "%s"

static bool
why_set(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	return false;
}

/* Every constant reason of the checks below (why_set's), for ap_fw_reason_msgid. */
static const char *const reasons[] = {
	N_("is required: a port (8443) or a range (8000-8100)"),
	N_("must be a port (8443) or a range (8000-8100), optionally /tcp or /udp"),
	N_("the protocol after / must be tcp, udp or both"),
	N_("must be a port 1..65535 or a range like 8000-8100"),
	N_("the range's first port must not be above its last"),
	N_("is too long (at most 32 addresses or networks)"),
	N_("must be IPv4 or IPv6 addresses or CIDR networks, separated by spaces or commas"),
	N_("is too long (at most 64 characters)"),
	N_("may only contain letters, digits, spaces and . _ , : @ + = - / ( ) #"),
	N_("is required: an address or a CIDR network"),
	N_("must be one IPv4 or IPv6 address or CIDR network"),
};

const char *
ap_fw_reason_msgid(const char *why)
{
	for (size_t i = 0; why != NULL && i < AP_NELEM(reasons); i++)
		if (strcmp(why, reasons[i]) == 0)
			return reasons[i];
	return NULL;
}

static bool
num_part(const char *s, size_t len, int *out)
{
	int v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (s[0] == '0' || v < 1 || v > 65535)
		return false;
	*out = v;
	return true;
}

bool
ap_fw_ports_parse(const char *s, int *lo, int *hi, const char **proto, char *why, size_t whylen)
{
	const char *slash, *dash, *end;

	if (proto != NULL)
		*proto = NULL;
	if (s == NULL || *s == '\0')
		return why_set(why, whylen, "is required: a port (8443) or a range (8000-8100)");
	if (strlen(s) > 20)
		return why_set(why, whylen, "must be a port (8443) or a range (8000-8100), optionally /tcp or /udp");
	slash = strchr(s, '/');
	end = slash ? slash : s + strlen(s);
	if (slash != NULL) {
		const char *p = slash + 1;

		if (strcmp(p, "tcp") != 0 && strcmp(p, "udp") != 0 && strcmp(p, "both") != 0)
			return why_set(why, whylen, "the protocol after / must be tcp, udp or both");
		if (proto != NULL)
			*proto = strcmp(p, "tcp") == 0 ? "tcp" : strcmp(p, "udp") == 0 ? "udp" : "both";
	}
	dash = memchr(s, '-', (size_t)(end - s));
	if (dash == NULL) {
		if (!num_part(s, (size_t)(end - s), lo))
			return why_set(why, whylen, "must be a port 1..65535 or a range like 8000-8100");
		*hi = *lo;
		return true;
	}
	if (!num_part(s, (size_t)(dash - s), lo) || !num_part(dash + 1, (size_t)(end - dash - 1), hi))
		return why_set(why, whylen, "must be a port 1..65535 or a range like 8000-8100");
	if (*lo > *hi)
		return why_set(why, whylen, "the range's first port must not be above its last");
	return true;
}

bool
ap_fw_from_check(const char *s, char *why, size_t whylen)
{
	struct ap_cidr *nets = NULL;
	char bad[64];
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return true;
	if (strlen(s) > 1500)
		return why_set(why, whylen, "is too long (at most 32 addresses or networks)");
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
			*p == '.' || *p == ':' || *p == '/' || *p == ',' || *p == ' '))
			return why_set(why, whylen, "must be IPv4 or IPv6 addresses or CIDR networks, separated by spaces or commas");
	if (!ap_cidr_list_parse(s, &nets, &n, bad, sizeof(bad))) {
		snprintf(why, whylen, "%s is not an address or a CIDR network", bad);
		return false;
	}
	free(nets);
	if (n > AP_FW_MAX_FROM)
		return why_set(why, whylen, "is too long (at most 32 addresses or networks)");
	return true;
}

bool
ap_fw_comment_check(const char *s, char *why, size_t whylen)
{
	if (s == NULL)
		return true;
	if (strlen(s) > AP_FW_COMMENT_MAX)
		return why_set(why, whylen, "is too long (at most 64 characters)");
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr(" ._,:@+=-/()#", *p) != NULL))
			return why_set(why, whylen, "may only contain letters, digits, spaces and . _ , : @ + = - / ( ) #");
	return true;
}

bool
ap_fw_block_check(const char *s, char *why, size_t whylen)
{
	struct ap_cidr c;

	if (s == NULL || *s == '\0')
		return why_set(why, whylen, "is required: an address or a CIDR network");
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
			*p == '.' || *p == ':' || *p == '/'))
			return why_set(why, whylen, "must be one IPv4 or IPv6 address or CIDR network");
	if (!ap_cidr_parse(s, &c))
		return why_set(why, whylen, "must be one IPv4 or IPv6 address or CIDR network");
	return true;
}

/* ---- the document --------------------------------------------------- */

static const char *
str_member(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
int_member(struct json_object *o, const char *k, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static bool
one_of(const char *s, const char *a, const char *b, const char *c)
{
	return s != NULL && (strcmp(s, a) == 0 || strcmp(s, b) == 0 || (c != NULL && strcmp(s, c) == 0));
}

static enum ap_err
bad(struct ap_problem *pb, const char *field, const char *why)
{
	const char *id = ap_fw_reason_msgid(why);

	/* A constant reason as its msgid (translated where it is shown); others as text. */
	if (id != NULL)
		return ap_problem_msg(pb, AP_PB_INVALID, field, id);
	return ap_problem_set(pb, AP_PB_INVALID, field, REASON_TEXT, why);
}

enum ap_err
ap_fw_doc_check(struct json_object *doc, struct ap_problem *pb)
{
	struct json_object *rules, *block, *v;
	char why[256], field[64];

	if (doc == NULL || !json_object_is_type(doc, json_type_object))
		return bad(pb, "ruleset", "must be a JSON object");
	json_object_object_foreach(doc, key, val) {
		(void)val;
		if (!one_of(key, "policy", "icmp_echo", "rules") && strcmp(key, "block") != 0)
			return bad(pb, key, "is not a member of a ruleset");
	}
	if (!one_of(str_member(doc, "policy"), "accept", "drop", NULL))
		return bad(pb, "policy", "must be accept or drop");
	if (!json_object_object_get_ex(doc, "icmp_echo", &v) || !json_object_is_type(v, json_type_boolean))
		return bad(pb, "icmp_echo", "must be true or false");
	if (!json_object_object_get_ex(doc, "rules", &rules) || !json_object_is_type(rules, json_type_array))
		return bad(pb, "rules", "must be a list");
	if (json_object_array_length(rules) > AP_FW_MAX_RULES)
		return bad(pb, "rules", "holds more than 256 rules");
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		const char *s;
		int64_t n;
		int lo, hi;

		snprintf(field, sizeof(field), "rules[%zu]", i);
		if (!json_object_is_type(r, json_type_object))
			return bad(pb, field, "must be an object");
		json_object_object_foreach(r, rk, rv) {
			(void)rv;
			if (!one_of(rk, "id", "action", "proto") && !one_of(rk, "ports", "from", "rate") &&
			    strcmp(rk, "comment") != 0) {
				snprintf(field, sizeof(field), "rules[%zu].%.32s", i, rk);
				return bad(pb, field, "is not a member of a rule");
			}
		}
		snprintf(field, sizeof(field), "rules[%zu].id", i);
		if (!int_member(r, "id", &n) || n < 1)
			return bad(pb, field, "must be a positive integer");
		snprintf(field, sizeof(field), "rules[%zu].action", i);
		if (!one_of(str_member(r, "action"), "allow", "deny", NULL))
			return bad(pb, field, "must be allow or deny");
		snprintf(field, sizeof(field), "rules[%zu].proto", i);
		if (!one_of(str_member(r, "proto"), "tcp", "udp", "both"))
			return bad(pb, field, "must be tcp, udp or both");
		snprintf(field, sizeof(field), "rules[%zu].ports", i);
		s = str_member(r, "ports");
		if (s == NULL || strchr(s, '/') != NULL || !ap_fw_ports_parse(s, &lo, &hi, NULL, why, sizeof(why)))
			return bad(pb, field, s == NULL || strchr(s, '/') != NULL ? "must be a port or a range" : why);
		snprintf(field, sizeof(field), "rules[%zu].from", i);
		s = str_member(r, "from");
		if (s == NULL || !ap_fw_from_check(s, why, sizeof(why)))
			return bad(pb, field, s == NULL ? "must be a text" : why);
		snprintf(field, sizeof(field), "rules[%zu].rate", i);
		if (!int_member(r, "rate", &n) || n < 0 || n > AP_FW_MAX_RATE)
			return bad(pb, field, "must be 0 (no limit) to 100000 new connections a minute");
		snprintf(field, sizeof(field), "rules[%zu].comment", i);
		s = str_member(r, "comment");
		if (s == NULL || !ap_fw_comment_check(s, why, sizeof(why)))
			return bad(pb, field, s == NULL ? "must be a text" : why);
	}
	if (!json_object_object_get_ex(doc, "block", &block) || !json_object_is_type(block, json_type_array))
		return bad(pb, "block", "must be a list");
	if (json_object_array_length(block) > AP_FW_MAX_BLOCK)
		return bad(pb, "block", "holds more than 2000 entries");
	for (size_t i = 0; i < json_object_array_length(block); i++) {
		struct json_object *e = json_object_array_get_idx(block, i);

		snprintf(field, sizeof(field), "block[%zu]", i);
		if (!json_object_is_type(e, json_type_string) ||
		    !ap_fw_block_check(json_object_get_string(e), why, sizeof(why)))
			return bad(pb, field, json_object_is_type(e, json_type_string) ? why : "must be a text");
	}
	return AP_OK;
}

/* ---- the batch ------------------------------------------------------ */

static struct json_object *
obj(const char *k, struct json_object *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, k, v);
	return o;
}

static struct json_object *
table_ref(void)
{
	struct json_object *t = json_object_new_object();

	json_object_object_add(t, "family", json_object_new_string("inet"));
	json_object_object_add(t, "name", json_object_new_string(AP_FW_TABLE));
	return obj("table", t);
}

static struct json_object *
in_table(const char *what, const char *name)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "family", json_object_new_string("inet"));
	json_object_object_add(o, "table", json_object_new_string(AP_FW_TABLE));
	json_object_object_add(o, "name", json_object_new_string(name));
	(void)what;
	return o;
}

/* {"match":{"op":op,"left":left,"right":right}} */
static struct json_object *
match(const char *op, struct json_object *left, struct json_object *right)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "op", json_object_new_string(op));
	json_object_object_add(m, "left", left);
	json_object_object_add(m, "right", right);
	return obj("match", m);
}

static struct json_object *
payload(const char *proto, const char *field)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "protocol", json_object_new_string(proto));
	json_object_object_add(p, "field", json_object_new_string(field));
	return obj("payload", p);
}

static struct json_object *
ct_state(void)
{
	return obj("ct", obj("key", json_object_new_string("state")));
}

static struct json_object *
verdict(bool accept)
{
	return obj(accept ? "accept" : "drop", NULL);
}

static void
add_rule(struct json_object *cmds, struct json_object *expr, const char *comment)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "family", json_object_new_string("inet"));
	json_object_object_add(r, "table", json_object_new_string(AP_FW_TABLE));
	json_object_object_add(r, "chain", json_object_new_string("input"));
	if (comment != NULL)
		json_object_object_add(r, "comment", json_object_new_string(comment));
	json_object_object_add(r, "expr", expr);
	json_object_array_add(cmds, obj("add", obj("rule", r)));
}

static struct json_object *
arr(struct json_object *a, struct json_object *b, struct json_object *c)
{
	struct json_object *x = json_object_new_array();

	json_object_array_add(x, a);
	if (b != NULL)
		json_object_array_add(x, b);
	if (c != NULL)
		json_object_array_add(x, c);
	return x;
}

/* An address or a network as libnftables writes it: "192.0.2.1" or {"prefix":{...}}. */
static struct json_object *
addr_elem(const struct ap_cidr *c)
{
	char txt[INET6_ADDRSTRLEN];
	struct json_object *p;

	inet_ntop(c->family, c->addr, txt, sizeof(txt));
	if (c->prefix == (c->family == AF_INET ? 32 : 128))
		return json_object_new_string(txt);
	p = json_object_new_object();
	json_object_object_add(p, "addr", json_object_new_string(txt));
	json_object_object_add(p, "len", json_object_new_int(c->prefix));
	return obj("prefix", p);
}

static struct json_object *
port_value(int lo, int hi)
{
	if (lo == hi)
		return json_object_new_int(lo);
	return obj("range", arr(json_object_new_int(lo), json_object_new_int(hi), NULL));
}

/* The per-source limit: a meter (a dynamic set keyed by the source address) named for the rule. */
static struct json_object *
meter(struct json_object *r, const char *proto, int fam, int64_t rate)
{
	struct json_object *l = json_object_new_object(), *m = json_object_new_object();
	char name[64];

	snprintf(name, sizeof(name), "rate_%lld_%s_%s",
	    (long long)json_object_get_int64(json_object_object_get(r, "id")), proto, fam == AF_INET ? "ip" : "ip6");
	json_object_object_add(l, "rate", json_object_new_int64(rate));
	json_object_object_add(l, "per", json_object_new_string("minute"));
	json_object_object_add(l, "burst", json_object_new_int64(rate < 5 ? rate : 5));
	json_object_object_add(l, "inv", json_object_new_boolean(true));
	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "key", payload(fam == AF_INET ? "ip" : "ip6", "saddr"));
	json_object_object_add(m, "stmt", obj("limit", l));
	return obj("meter", m);
}

/* The rules of one document rule for one protocol and one address family
 * (fam 0: any source): the rate limit first — per source address, each
 * address its own allowance in a meter, over it: drop —, then the verdict. */
static void
emit_rule(struct json_object *cmds, struct json_object *r, const char *proto, int fam,
    const struct ap_cidr *nets, size_t n, const char *comment)
{
	int64_t rate = json_object_get_int64(json_object_object_get(r, "rate"));
	bool allow = strcmp(json_object_get_string(json_object_object_get(r, "action")), "allow") == 0;
	int lo = 0, hi = 0;
	char why[128];

	ap_fw_ports_parse(json_object_get_string(json_object_object_get(r, "ports")), &lo, &hi, NULL,
	    why, sizeof(why));
	/* pass 0 and 1: the limits (IPv4 and IPv6 sources, or the from list's family), 2: the verdict */
	for (int pass = rate > 0 && allow ? 0 : 2; pass < 3; pass++) {
		struct json_object *expr;
		int mfam = fam != 0 ? fam : pass == 0 ? AF_INET : AF_INET6;

		if (pass == 1 && fam != 0)
			continue;
		expr = json_object_new_array();
		if (fam != 0) {
			struct json_object *set = json_object_new_array();

			for (size_t i = 0; i < n; i++)
				if (nets[i].family == fam)
					json_object_array_add(set, addr_elem(&nets[i]));
			json_object_array_add(expr, match("==",
			    payload(fam == AF_INET ? "ip" : "ip6", "saddr"), obj("set", set)));
		}
		json_object_array_add(expr, match("==", payload(proto, "dport"), port_value(lo, hi)));
		if (pass < 2) {
			json_object_array_add(expr, match("in", ct_state(), json_object_new_string("new")));
			json_object_array_add(expr, meter(r, proto, mfam, rate));
			json_object_array_add(expr, verdict(false));
		} else {
			json_object_array_add(expr, verdict(allow));
		}
		add_rule(cmds, expr, comment);
	}
}

static struct json_object *
set_decl(const char *name, const char *type, struct json_object *block, int fam)
{
	struct json_object *s = in_table("set", name), *elems = json_object_new_array();

	json_object_object_add(s, "type", json_object_new_string(type));
	json_object_object_add(s, "flags", arr(json_object_new_string("interval"), NULL, NULL));
	json_object_object_add(s, "auto-merge", json_object_new_boolean(true));
	for (size_t i = 0; i < json_object_array_length(block); i++) {
		struct ap_cidr c;

		if (ap_cidr_parse(json_object_get_string(json_object_array_get_idx(block, i)), &c) &&
		    c.family == fam)
			json_object_array_add(elems, addr_elem(&c));
	}
	if (json_object_array_length(elems) > 0)
		json_object_object_add(s, "elem", elems);
	else
		json_object_put(elems);
	return obj("set", s);
}

struct json_object *
ap_fw_nft_batch(struct json_object *doc)
{
	struct json_object *cmds = json_object_new_array(), *rules, *block, *chain, *icmp6;
	bool drop = strcmp(json_object_get_string(json_object_object_get(doc, "policy")), "drop") == 0;
	bool echo = json_object_get_boolean(json_object_object_get(doc, "icmp_echo"));
	static const char *const nd[] = { "nd-neighbor-solicit", "nd-neighbor-advert",
		"nd-router-solicit", "nd-router-advert" };

	rules = json_object_object_get(doc, "rules");
	block = json_object_object_get(doc, "block");
	/* add + delete + add: one transaction that replaces only this table, existing or not. */
	json_object_array_add(cmds, obj("add", table_ref()));
	json_object_array_add(cmds, obj("delete", table_ref()));
	json_object_array_add(cmds, obj("add", table_ref()));
	json_object_array_add(cmds, obj("add", set_decl("block4", "ipv4_addr", block, AF_INET)));
	json_object_array_add(cmds, obj("add", set_decl("block6", "ipv6_addr", block, AF_INET6)));
	chain = in_table("chain", "input");
	json_object_object_add(chain, "type", json_object_new_string("filter"));
	json_object_object_add(chain, "hook", json_object_new_string("input"));
	json_object_object_add(chain, "prio", json_object_new_int(0));
	json_object_object_add(chain, "policy", json_object_new_string(drop ? "drop" : "accept"));
	json_object_array_add(cmds, obj("add", obj("chain", chain)));

	add_rule(cmds, arr(match("==", obj("meta", obj("key", json_object_new_string("iifname"))),
	    json_object_new_string("lo")), verdict(true), NULL), "aapanel:loopback");
	add_rule(cmds, arr(match("==", payload("ip", "saddr"), json_object_new_string("@block4")),
	    verdict(false), NULL), "aapanel:block-list");
	add_rule(cmds, arr(match("==", payload("ip6", "saddr"), json_object_new_string("@block6")),
	    verdict(false), NULL), "aapanel:block-list");
	add_rule(cmds, arr(match("in", ct_state(), arr(json_object_new_string("established"),
	    json_object_new_string("related"), NULL)), verdict(true), NULL), "aapanel:established");
	icmp6 = json_object_new_array();
	for (size_t i = 0; i < AP_NELEM(nd); i++)
		json_object_array_add(icmp6, json_object_new_string(nd[i]));
	add_rule(cmds, arr(match("==", payload("icmpv6", "type"), obj("set", icmp6)), verdict(true), NULL),
	    "aapanel:neighbour-discovery");
	add_rule(cmds, arr(match("==", payload("icmp", "type"), json_object_new_string("echo-request")),
	    verdict(echo), NULL), "aapanel:icmp-echo");
	add_rule(cmds, arr(match("==", payload("icmpv6", "type"), json_object_new_string("echo-request")),
	    verdict(echo), NULL), "aapanel:icmp-echo");

	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		const char *proto = json_object_get_string(json_object_object_get(r, "proto"));
		const char *from = json_object_get_string(json_object_object_get(r, "from"));
		struct ap_cidr *nets = NULL;
		size_t n = 0;
		char comment[128], badv[64];
		bool v4 = false, v6 = false;

		const char *note = json_object_get_string(json_object_object_get(r, "comment"));

		snprintf(comment, sizeof(comment), "aapanel:%lld%s%s",
		    (long long)json_object_get_int64(json_object_object_get(r, "id")), note[0] ? " " : "", note);
		if (from[0] != '\0' && !ap_cidr_list_parse(from, &nets, &n, badv, sizeof(badv)))
			continue; /* checked before: cannot happen */
		for (size_t k = 0; k < n; k++) {
			v4 |= nets[k].family == AF_INET;
			v6 |= nets[k].family == AF_INET6;
		}
		for (int p = 0; p < 2; p++) {
			const char *pr = p == 0 ? "tcp" : "udp";

			if (strcmp(proto, "both") != 0 && strcmp(proto, pr) != 0)
				continue;
			if (n == 0)
				emit_rule(cmds, r, pr, 0, NULL, 0, comment);
			if (v4)
				emit_rule(cmds, r, pr, AF_INET, nets, n, comment);
			if (v6)
				emit_rule(cmds, r, pr, AF_INET6, nets, n, comment);
		}
		free(nets);
	}
	return obj("nftables", cmds);
}

struct json_object *
ap_fw_nft_delete_batch(void)
{
	struct json_object *cmds = json_object_new_array();

	json_object_array_add(cmds, obj("add", table_ref()));
	json_object_array_add(cmds, obj("delete", table_ref()));
	return obj("nftables", cmds);
}

/* ---- the guard ------------------------------------------------------ */

bool
ap_fw_blocks(struct json_object *doc, const char *addr, int port, char *why, size_t whylen)
{
	struct json_object *rules = json_object_object_get(doc, "rules");
	struct json_object *block = json_object_object_get(doc, "block");

	if (addr == NULL || !ap_addr_valid(addr))
		return false;
	for (size_t i = 0; i < json_object_array_length(block); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(block, i));
		struct ap_cidr c;

		if (ap_cidr_parse(e, &c) && ap_cidr_match(&c, addr)) {
			snprintf(why, whylen, "the block list's entry %s holds %s", e, addr);
			return true;
		}
	}
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		const char *proto = json_object_get_string(json_object_object_get(r, "proto"));
		const char *from = json_object_get_string(json_object_object_get(r, "from"));
		struct ap_cidr *nets = NULL;
		size_t n = 0;
		int lo = 0, hi = 0;
		char badv[64];
		bool hit;

		if (strcmp(proto, "udp") == 0)
			continue;
		if (!ap_fw_ports_parse(json_object_get_string(json_object_object_get(r, "ports")), &lo, &hi,
			NULL, badv, sizeof(badv)) || port < lo || port > hi)
			continue;
		if (from[0] != '\0' && !ap_cidr_list_parse(from, &nets, &n, badv, sizeof(badv)))
			continue;
		hit = n == 0 || ap_cidr_list_match(nets, n, addr);
		free(nets);
		if (!hit)
			continue;
		if (strcmp(json_object_get_string(json_object_object_get(r, "action")), "deny") != 0)
			return false;
		snprintf(why, whylen, "rule %lld (deny %s/%s%s%s) drops %s's connections to port %d",
		    (long long)json_object_get_int64(json_object_object_get(r, "id")),
		    json_object_get_string(json_object_object_get(r, "ports")), proto,
		    from[0] ? " from " : "", from, addr, port);
		return true;
	}
	if (strcmp(json_object_get_string(json_object_object_get(doc, "policy")), "drop") == 0) {
		snprintf(why, whylen, "no rule allows %s to port %d and the default policy drops it", addr, port);
		return true;
	}
	return false;
}
