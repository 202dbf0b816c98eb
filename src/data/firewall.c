/*
 * firewall.c — the firewall's data (firewall.h, docs/firewall.md): rules,
 * block list and state in the panel's database; the helper's firewall.*
 * operations for the kernel. Every check here is the one of fwrules.c, so
 * what is stored is what the helper will accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/firewall.h"
#include "aapanel/log.h"

static enum ap_err
db_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	return ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
}

static void
text_col(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

static int64_t
int_col(struct ap_db_stmt *st, int col)
{
	return ap_db_col_is_null(st, col) ? 0 : ap_db_col_int64(st, col);
}

static enum ap_err
exec1(const struct ap_fw_env *env, const char *sql, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static enum ap_err
bump(const struct ap_fw_env *env, struct ap_problem *pb)
{
	return exec1(env, "UPDATE firewall_state SET revision = revision + 1 WHERE id = 1", pb);
}

/* ---- reading -------------------------------------------------------- */

static const char rule_cols[] =
    "id, position, action, proto, port_from, port_to, source, rate, comment, created_at";

static void
fill_rule(struct ap_db_stmt *st, struct ap_fw_rule *r)
{
	int64_t lo, hi;

	memset(r, 0, sizeof(*r));
	r->id = ap_db_col_int64(st, 0);
	r->position = int_col(st, 1);
	text_col(st, 2, r->action, sizeof(r->action));
	text_col(st, 3, r->proto, sizeof(r->proto));
	if (strcmp(r->proto, "any") == 0) /* 0001's name for TCP and UDP */
		snprintf(r->proto, sizeof(r->proto), "both");
	lo = int_col(st, 4);
	hi = int_col(st, 5);
	if (lo == hi || hi == 0)
		snprintf(r->ports, sizeof(r->ports), "%lld", (long long)lo);
	else
		snprintf(r->ports, sizeof(r->ports), "%lld-%lld", (long long)lo, (long long)hi);
	text_col(st, 6, r->from, sizeof(r->from));
	r->rate = int_col(st, 7);
	text_col(st, 8, r->comment, sizeof(r->comment));
	r->created_at = int_col(st, 9);
}

enum ap_err
ap_fw_rules(const struct ap_fw_env *env, struct ap_fw_rule **out, size_t *n, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_fw_rule *v = NULL;
	size_t cap = 0, len = 0;
	char sql[256];
	enum ap_db_rc rc;

	*out = NULL;
	*n = 0;
	/* enabled (0001) is always 1 here: a rule is removed, not switched off */
	snprintf(sql, sizeof(sql), "SELECT %s FROM firewall_rules ORDER BY position, id", rule_cols);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = ap_xrealloc(v, cap * sizeof(*v));
		}
		fill_rule(st, &v[len++]);
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE) {
		free(v);
		return db_fail(pb, rc);
	}
	*out = v;
	*n = len;
	return AP_OK;
}

enum ap_err
ap_fw_blocklist(const struct ap_fw_env *env, struct ap_fw_block **out, size_t *n, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_fw_block *v = NULL;
	size_t cap = 0, len = 0;
	enum ap_db_rc rc;

	*out = NULL;
	*n = 0;
	if ((rc = ap_db_prepare(env->db, "SELECT id, address, comment, created_at FROM firewall_blocklist ORDER BY id",
		 &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = ap_xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[len], 0, sizeof(v[len]));
		v[len].id = ap_db_col_int64(st, 0);
		text_col(st, 1, v[len].address, sizeof(v[len].address));
		text_col(st, 2, v[len].comment, sizeof(v[len].comment));
		v[len].created_at = int_col(st, 3);
		len++;
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE) {
		free(v);
		return db_fail(pb, rc);
	}
	*out = v;
	*n = len;
	return AP_OK;
}

enum ap_err
ap_fw_state_get(const struct ap_fw_env *env, struct ap_fw_state *s, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	memset(s, 0, sizeof(*s));
	if ((rc = ap_db_prepare(env->db,
		 "SELECT policy, icmp_echo, revision, applied_revision, applied_text, applied_at, pending_serial, "
		 "pending_deadline, confirmed_at FROM firewall_state WHERE id = 1", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 4, NULL);

		text_col(st, 0, s->policy, sizeof(s->policy));
		s->icmp_echo = int_col(st, 1) != 0;
		s->revision = int_col(st, 2);
		s->applied_revision = int_col(st, 3);
		s->applied_text = t ? ap_xstrdup(t) : NULL;
		s->applied_at = int_col(st, 5);
		s->pending_serial = int_col(st, 6);
		s->pending_deadline = int_col(st, 7);
		s->confirmed_at = int_col(st, 8);
	}
	ap_db_finalize(st);
	if (rc != AP_DB_ROW)
		return db_fail(pb, rc);
	return AP_OK;
}

void
ap_fw_state_clear(struct ap_fw_state *s)
{
	free(s->applied_text);
	s->applied_text = NULL;
}

/* ---- changes -------------------------------------------------------- */

/* The checker's own reason (fwrules.c, English), passed through as it is. */
#define CHECK_MSG "%s"

static enum ap_err
bad(struct ap_problem *pb, const char *field, const char *why)
{
	static const char tail[] = " is not an address or a CIDR network";
	const char *id = ap_fw_reason_msgid(why);
	size_t n = strlen(why), t = sizeof(tail) - 1;
	char what[128];

	/* A constant reason goes as its msgid, so the page shows its translation. */
	if (id != NULL)
		return ap_problem_msg(pb, AP_PB_INVALID, field, id);
	if (n > t && n - t < sizeof(what) && strcmp(why + n - t, tail) == 0) {
		memcpy(what, why, n - t);
		what[n - t] = '\0';
		return ap_problem_set(pb, AP_PB_INVALID, field, "%s is not an address or a CIDR network", what);
	}
	return ap_problem_set(pb, AP_PB_INVALID, field, CHECK_MSG, why);
}

/* One of this file's own constant reasons (a msgid). */
static enum ap_err
bad_c(struct ap_problem *pb, const char *field, const char *msgid)
{
	return ap_problem_msg(pb, AP_PB_INVALID, field, msgid);
}

static enum ap_err
rule_get(const struct ap_fw_env *env, int64_t id, struct ap_fw_rule *r, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[256];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM firewall_rules WHERE id = ?", rule_cols);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		fill_rule(st, r);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, "id", "no such rule");
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_fw_rule_add(const struct ap_fw_env *env, const struct ap_fw_rule *in, struct ap_fw_rule *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char why[256];
	int lo, hi;
	int64_t pos = in->position, last = 0, id;
	size_t count = 0;
	enum ap_db_rc rc;

	if (strcmp(in->action, "allow") != 0 && strcmp(in->action, "deny") != 0)
		return bad_c(pb, "action", N_("must be allow or deny"));
	if (strcmp(in->proto, "tcp") != 0 && strcmp(in->proto, "udp") != 0 && strcmp(in->proto, "both") != 0)
		return bad_c(pb, "proto", N_("must be tcp, udp or both"));
	if (strchr(in->ports, '/') != NULL || !ap_fw_ports_parse(in->ports, &lo, &hi, NULL, why, sizeof(why)))
		return strchr(in->ports, '/') ? bad_c(pb, "ports", N_("must be a port or a range (the protocol is proto)"))
					       : bad(pb, "ports", why);
	if (!ap_fw_from_check(in->from, why, sizeof(why)))
		return bad(pb, "from", why);
	if (in->rate < 0 || in->rate > AP_FW_MAX_RATE)
		return bad_c(pb, "rate", N_("must be 0 (no limit) to 100000 new connections a minute"));
	if (in->rate > 0 && strcmp(in->action, "allow") != 0)
		return bad_c(pb, "rate", N_("limits what a rule allows: a deny rule has none"));
	if (!ap_fw_comment_check(in->comment, why, sizeof(why)))
		return bad(pb, "comment", why);
	if ((rc = ap_db_prepare(env->db, "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM firewall_rules", &st)) !=
	    AP_DB_OK)
		return db_fail(pb, rc);
	if ((rc = ap_db_step(st)) == AP_DB_ROW) {
		count = (size_t)int_col(st, 0);
		last = int_col(st, 1);
	}
	ap_db_finalize(st);
	if (rc != AP_DB_ROW)
		return db_fail(pb, rc);
	if (count >= AP_FW_MAX_RULES)
		return ap_problem_set(pb, AP_PB_CONFLICT, NULL, "there are already 256 rules");
	if (pos < 0 || pos > 100000)
		return bad_c(pb, "position", N_("must be 1 or more (0 or none: after the last rule)"));
	if (pos == 0 || pos > last)
		pos = last + 1;
	else {
		if ((rc = ap_db_prepare(env->db, "UPDATE firewall_rules SET position = position + 1 WHERE position >= ?",
			 &st)) != AP_DB_OK)
			return db_fail(pb, rc);
		ap_db_bind_int64(st, 1, pos);
		rc = ap_db_step(st);
		ap_db_finalize(st);
		if (rc != AP_DB_DONE)
			return db_fail(pb, rc);
	}
	if ((rc = ap_db_prepare_insert(env->db,
		 "INSERT INTO firewall_rules (position, action, proto, port_from, port_to, source, rate, comment, "
		 "enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)", "id", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, pos);
	ap_db_bind_text(st, 2, in->action, -1);
	ap_db_bind_text(st, 3, strcmp(in->proto, "both") == 0 ? "any" : in->proto, -1);
	ap_db_bind_int64(st, 4, lo);
	ap_db_bind_int64(st, 5, hi);
	ap_db_bind_text(st, 6, in->from, -1);
	ap_db_bind_int64(st, 7, in->rate);
	ap_db_bind_text(st, 8, in->comment, -1);
	ap_db_bind_int64(st, 9, (int64_t)time(NULL));
	rc = ap_db_step(st);
	id = rc == AP_DB_DONE ? ap_db_last_insert_id(st) : 0;
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	if (bump(env, pb) != AP_OK)
		return AP_ERR_IO;
	return rule_get(env, id, out, pb);
}

enum ap_err
ap_fw_rule_remove(const struct ap_fw_env *env, int64_t id, struct ap_fw_rule *before, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if (rule_get(env, id, before, pb) != AP_OK)
		return AP_ERR_NOTFOUND;
	if ((rc = ap_db_prepare(env->db, "DELETE FROM firewall_rules WHERE id = ?", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	return bump(env, pb);
}

enum ap_err
ap_fw_block_add(const struct ap_fw_env *env, const char *address, const char *comment, struct ap_fw_block *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_fw_block *all = NULL;
	size_t n = 0;
	char why[256];
	enum ap_db_rc rc;

	if (!ap_fw_block_check(address, why, sizeof(why)))
		return bad(pb, "address", why);
	if (!ap_fw_comment_check(comment, why, sizeof(why)))
		return bad(pb, "comment", why);
	if (ap_fw_blocklist(env, &all, &n, pb) != AP_OK)
		return AP_ERR_IO;
	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].address, address) == 0) {
			free(all);
			return ap_problem_set(pb, AP_PB_EXISTS, "address", "is on the block list already");
		}
	free(all);
	if (n >= AP_FW_MAX_BLOCK)
		return ap_problem_set(pb, AP_PB_CONFLICT, "address", "the block list holds 2000 entries already");
	if ((rc = ap_db_prepare_insert(env->db,
		 "INSERT INTO firewall_blocklist (address, comment, created_at) VALUES (?, ?, ?)", "id", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, address, -1);
	ap_db_bind_text(st, 2, comment ? comment : "", -1);
	ap_db_bind_int64(st, 3, (int64_t)time(NULL));
	rc = ap_db_step(st);
	memset(out, 0, sizeof(*out));
	out->id = rc == AP_DB_DONE ? ap_db_last_insert_id(st) : 0;
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	snprintf(out->address, sizeof(out->address), "%s", address);
	snprintf(out->comment, sizeof(out->comment), "%s", comment ? comment : "");
	out->created_at = (int64_t)time(NULL);
	return bump(env, pb);
}

enum ap_err
ap_fw_block_remove(const struct ap_fw_env *env, int64_t id, struct ap_fw_block *before, struct ap_problem *pb)
{
	struct ap_fw_block *all = NULL;
	struct ap_db_stmt *st = NULL;
	bool found = false;
	size_t n = 0;
	enum ap_db_rc rc;

	if (ap_fw_blocklist(env, &all, &n, pb) != AP_OK)
		return AP_ERR_IO;
	for (size_t i = 0; i < n; i++)
		if (all[i].id == id) {
			*before = all[i];
			found = true;
		}
	free(all);
	if (!found)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, "id", "no such block-list entry");
	if ((rc = ap_db_prepare(env->db, "DELETE FROM firewall_blocklist WHERE id = ?", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	return bump(env, pb);
}

enum ap_err
ap_fw_settings_set(const struct ap_fw_env *env, const char *policy, bool icmp_echo, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if (policy == NULL || (strcmp(policy, "accept") != 0 && strcmp(policy, "drop") != 0))
		return bad_c(pb, "policy", N_("must be accept or drop"));
	if ((rc = ap_db_prepare(env->db,
		 "UPDATE firewall_state SET policy = ?, icmp_echo = ?, revision = revision + 1 WHERE id = 1", &st)) !=
	    AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, policy, -1);
	ap_db_bind_int64(st, 2, icmp_echo ? 1 : 0);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

/* ---- JSON ----------------------------------------------------------- */

struct json_object *
ap_fw_rule_json(const struct ap_fw_rule *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "position", json_object_new_int64(r->position));
	json_object_object_add(o, "action", json_object_new_string(r->action));
	json_object_object_add(o, "proto", json_object_new_string(r->proto));
	json_object_object_add(o, "ports", json_object_new_string(r->ports));
	json_object_object_add(o, "from", json_object_new_string(r->from));
	json_object_object_add(o, "rate", json_object_new_int64(r->rate));
	json_object_object_add(o, "comment", json_object_new_string(r->comment));
	return o;
}

struct json_object *
ap_fw_block_json(const struct ap_fw_block *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(b->id));
	json_object_object_add(o, "address", json_object_new_string(b->address));
	json_object_object_add(o, "comment", json_object_new_string(b->comment));
	return o;
}

struct json_object *
ap_fw_document(const struct ap_fw_env *env, struct ap_problem *pb)
{
	struct json_object *doc = NULL, *rules, *block;
	struct ap_fw_rule *r = NULL;
	struct ap_fw_block *b = NULL;
	struct ap_fw_state s;
	size_t nr = 0, nb = 0;

	if (ap_fw_state_get(env, &s, pb) != AP_OK || ap_fw_rules(env, &r, &nr, pb) != AP_OK ||
	    ap_fw_blocklist(env, &b, &nb, pb) != AP_OK)
		goto out;
	doc = json_object_new_object();
	rules = json_object_new_array();
	block = json_object_new_array();
	for (size_t i = 0; i < nr; i++) {
		struct json_object *o = ap_fw_rule_json(&r[i]);

		json_object_object_del(o, "position"); /* the order is the list's */
		json_object_array_add(rules, o);
	}
	for (size_t i = 0; i < nb; i++)
		json_object_array_add(block, json_object_new_string(b[i].address));
	json_object_object_add(doc, "policy", json_object_new_string(s.policy));
	json_object_object_add(doc, "icmp_echo", json_object_new_boolean(s.icmp_echo));
	json_object_object_add(doc, "rules", rules);
	json_object_object_add(doc, "block", block);
out:
	ap_fw_state_clear(&s);
	free(r);
	free(b);
	return doc;
}

/* ---- the helper ----------------------------------------------------- */

static enum ap_err
hcall(const struct ap_fw_env *env, const char *op, struct json_object *args, struct json_object **res,
    struct ap_problem *pb)
{
	enum ap_err e;

	if (env->helper == NULL) {
		json_object_put(args);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	}
	e = ap_helper_call(env->helper, op, args, res, pb);
	json_object_put(args);
	if (e != AP_OK && pb->code == AP_PB_UNAVAILABLE && pb->reason[0] == '\0')
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the panel's helper is not reachable; nothing was changed");
	/* The helper's own check of the document: its constant reasons translated here too. */
	if (e != AP_OK && pb->code == AP_PB_INVALID && ap_fw_reason_msgid(pb->reason) != NULL) {
		char field[sizeof(pb->field)];

		snprintf(field, sizeof(field), "%s", pb->field);
		ap_problem_msg(pb, AP_PB_INVALID, field[0] ? field : NULL, ap_fw_reason_msgid(pb->reason));
	}
	return e;
}

enum ap_err
ap_fw_apply(const struct ap_fw_env *env, const char *operator, int panel_port, bool override,
    struct json_object **result, struct ap_problem *pb)
{
	struct json_object *doc, *args, *res = NULL, *v;
	struct ap_db_stmt *st = NULL;
	struct ap_fw_state s;
	enum ap_db_rc rc;
	enum ap_err e;

	if (result != NULL)
		*result = NULL;
	if ((doc = ap_fw_document(env, pb)) == NULL)
		return AP_ERR_IO;
	if (ap_fw_state_get(env, &s, pb) != AP_OK) {
		json_object_put(doc);
		return AP_ERR_IO;
	}
	args = json_object_new_object();
	json_object_object_add(args, "ruleset",
	    json_object_new_string(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN)));
	json_object_put(doc);
	if (operator != NULL && operator[0] != '\0')
		json_object_object_add(args, "operator", json_object_new_string(operator));
	if (panel_port > 0)
		json_object_object_add(args, "panel_port", json_object_new_int(panel_port));
	if (override)
		json_object_object_add(args, "override", json_object_new_boolean(true));
	if ((e = hcall(env, "firewall.apply", args, &res, pb)) != AP_OK)
		goto out;
	if ((rc = ap_db_prepare(env->db,
		 "UPDATE firewall_state SET applied_revision = ?, applied_text = ?, applied_at = ?, pending_serial = ?, "
		 "pending_deadline = ? WHERE id = 1", &st)) != AP_DB_OK) {
		e = db_fail(pb, rc);
		goto out;
	}
	ap_db_bind_int64(st, 1, s.revision);
	ap_db_bind_text(st, 2, json_object_object_get_ex(res, "text", &v) ? json_object_get_string(v) : "", -1);
	ap_db_bind_int64(st, 3, (int64_t)time(NULL));
	ap_db_bind_int64(st, 4, json_object_object_get_ex(res, "serial", &v) ? json_object_get_int64(v) : 0);
	ap_db_bind_int64(st, 5, json_object_object_get_ex(res, "deadline", &v) ? json_object_get_int64(v) : 0);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE) {
		e = db_fail(pb, rc);
		goto out;
	}
	if (result != NULL) {
		*result = res;
		res = NULL;
	}
out:
	json_object_put(res);
	ap_fw_state_clear(&s);
	return e;
}

enum ap_err
ap_fw_confirm(const struct ap_fw_env *env, int64_t *serial, struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	struct ap_db_stmt *st = NULL;
	struct ap_fw_state s;
	enum ap_db_rc rc;
	enum ap_err e;

	if (ap_fw_state_get(env, &s, pb) != AP_OK)
		return AP_ERR_IO;
	ap_fw_state_clear(&s);
	*serial = s.pending_serial;
	if (s.pending_serial <= 0)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, NULL, "no applied change waits for confirmation");
	args = json_object_new_object();
	json_object_object_add(args, "serial", json_object_new_int64(s.pending_serial));
	e = hcall(env, "firewall.confirm", args, &res, pb);
	json_object_put(res);
	if (e != AP_OK && pb->code != AP_PB_CONFLICT && pb->code != AP_PB_NOT_FOUND)
		return e;
	/* Confirmed, or gone (reverted, or a restarted helper forgot it): nothing waits any more. */
	if ((rc = ap_db_prepare(env->db,
		 e == AP_OK ? "UPDATE firewall_state SET pending_serial = NULL, pending_deadline = NULL, confirmed_at = ? "
			      "WHERE id = 1"
			    : "UPDATE firewall_state SET pending_serial = NULL, pending_deadline = NULL, "
			      "applied_revision = -1, applied_text = NULL WHERE id = 1 AND ? > 0", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, (int64_t)time(NULL));
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	return e;
}

enum ap_err
ap_fw_kernel(const struct ap_fw_env *env, struct json_object **out, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct json_object *v;
	struct ap_fw_state s;
	int64_t pend = 0, reverted = 0;

	if (hcall(env, "firewall.show", json_object_new_object(), out, pb) != AP_OK)
		return AP_ERR_UNAVAIL;
	if (ap_fw_state_get(env, &s, pb) != AP_OK)
		return AP_OK; /* the kernel's side is still worth showing */
	ap_fw_state_clear(&s);
	if (json_object_object_get_ex(*out, "pending_serial", &v))
		pend = json_object_get_int64(v);
	if (json_object_object_get_ex(*out, "reverted_serial", &v))
		reverted = json_object_get_int64(v);
	/* The watchdog put the old ruleset back: what was applied is no longer in the kernel. */
	if (s.pending_serial > 0 && pend != s.pending_serial && reverted == s.pending_serial &&
	    ap_db_prepare(env->db, "UPDATE firewall_state SET pending_serial = NULL, pending_deadline = NULL, "
				   "applied_revision = -1, applied_text = NULL WHERE id = 1", &st) == AP_DB_OK) {
		if (ap_db_step(st) == AP_DB_DONE)
			AP_INFO("firewall: change %lld reverted unconfirmed", (long long)s.pending_serial);
		ap_db_finalize(st);
	}
	return AP_OK;
}
